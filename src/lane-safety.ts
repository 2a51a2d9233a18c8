// Which of Yoga's plugins the fast lane honours. The lane answers admitted documents without
// Yoga's hook chain, so a plugin's hooks do not run there: each plugin in Yoga's list must be
// declared lane-safe, with the reason skipping it changes nothing (the lane reproduces it, or it
// acts only on what the lane never serves). One undeclared plugin turns the lane off: a forgotten
// decision costs speed (visible on gateway_fast_lane_requests_total), never correctness.

import type { Plugin } from 'graphql-yoga';

const reasons = new WeakMap<Plugin, string>();

/** Declares that the fast lane honours these plugins, and why. */
export function laneSafe<T extends Plugin | Plugin[]>(plugins: T, reason: string): T {
  for (const plugin of Array.isArray(plugins) ? plugins : [plugins]) reasons.set(plugin, reason);
  return plugins;
}

/** How many plugins of the list are not declared lane-safe. */
export function undeclaredPlugins(plugins: readonly Plugin[]): number {
  return plugins.filter((plugin) => !reasons.has(plugin)).length;
}
