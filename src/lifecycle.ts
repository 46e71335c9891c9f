// How the process ends, and what its exit code says. A service manager (systemd with
// Restart=on-failure) restarts the bot on every code but 0, and an operator reads the code:
//   0  asked to stop (SIGINT, SIGTERM) or the console closed
//   1  an unexpected error (a bug: the log has its stack)
//   2  the configuration is wrong (the log line says which variable)
//   3  a platform refused the bot's credentials (Discord: invalid token or intents, gateway
//      close 4004/4010-4014; Matrix: M_UNKNOWN_TOKEN): fix the token, restarting will not help
//   4  a platform stayed unreachable longer than allowed (DPOOL_GIVE_UP_AFTER)
export const EXIT = { stopped: 0, error: 1, config: 2, credentials: 3, unreachable: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A reason the bot cannot go on: adapters report it, the wiring logs one line and exits with its code. */
export class FatalError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = "FatalError";
  }
}

/** Called by an adapter when its platform connection cannot continue. */
export type OnFatal = (e: FatalError) => void;
