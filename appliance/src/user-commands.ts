import type { Command } from './command.ts';

/** `praxiskern user …` commands. */
export const userCommands: Record<string, Command> = {};
