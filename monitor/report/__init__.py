"""What the day looked like: the store and the day report.

    store     Database: the SQLite file the service writes (events, days, captures' retention)
    summary   DaySummary from a day's events (upright time, lean, sitting bouts, breaks, nudges)
    exercise  rowing and foam-rolling minutes, and the week against the article's advice
    html      the self-contained day page (charts in `charts`, the nudges panel in `nudges`)
"""
