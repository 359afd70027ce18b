"""Answering a running monitor: the control protocol, its Unix socket, the MQTT control topic and the
desktop notification buttons, all carried out by one Controller in the service's thread."""

from monitor.control.controller import Controller
from monitor.control.protocol import ACTIONS, ControlError, Request, decode_request, parse_minutes
from monitor.control.server import ControlServer, MonitorNotRunning, default_socket_path, request

__all__ = ["ACTIONS", "ControlError", "ControlServer", "Controller", "MonitorNotRunning", "Request",
           "decode_request", "default_socket_path", "parse_minutes", "request"]
