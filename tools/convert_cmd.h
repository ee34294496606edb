/* convert_cmd.h - the `model-scanner convert` subcommand (tools/convert_cmd.c). */
#ifndef MS_CONVERT_CMD_H
#define MS_CONVERT_CMD_H

/* argv[1] is "convert". Returns the exit status: 0 converted, 1 refused
 * (unsafe or unsupported content; nothing written), 2 could not run. */
int ms_cli_convert(int argc, char **argv);

#endif
