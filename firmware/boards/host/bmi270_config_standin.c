/* A STAND-IN for Bosch's BMI270 configuration blob, for the host build only: the register model checks
 * that the driver uploads every one of its 8192 bytes by the documented procedure, not what they are.
 * A real board must link Bosch's bmi270_config_file (BSD-3-Clause, BMI270 SensorAPI); see the README. */
#include <stddef.h>
#include <stdint.h>
const uint8_t bmi270_config_file[8192] = {0};
const size_t bmi270_config_size = sizeof bmi270_config_file;
