// The one table of commands. Parser, help, dispatcher, README and (later) Discord's slash
// commands are all derived from it.
import type { AnyCommand } from "./define.ts";
import { helpCommand } from "./help.ts";
import { ledgerCommands, meCommands } from "./me.ts";
import { poolCommands } from "./pool.ts";
import { projectCommands } from "./project.ts";
import { roomCommands } from "./rooms.ts";
import { goodCommands } from "./good.ts";
import { summaryCommands } from "./summary.ts";
import { taskCommands } from "./task.ts";

export const table: readonly AnyCommand[] = [
  helpCommand,
  ...poolCommands,
  ...ledgerCommands,
  ...summaryCommands,
  ...roomCommands,
  ...projectCommands,
  ...taskCommands,
  ...goodCommands,
  ...meCommands,
];
