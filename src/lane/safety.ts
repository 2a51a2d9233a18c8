// Which of Yoga's plugins the fast lane honours. The lane answers admitted documents without
// Yoga's hook chain, so a plugin's hooks do not run there: each plugin in Yoga's list must be
// declared lane-safe, with the reason skipping it changes nothing (it acts only on what the lane
// never serves, or the lane applies its rule), or declared as one whose per-request observers
// the lane runs too (`laneSafe.runsOnLane`). One undeclared plugin turns the lane off: a forgotten
// decision costs speed (visible on gateway_fast_lane_requests_total), never correctness.
// Only the gateway's assembly declares; a plugin made by useRequestObservers from outside it (a
// deployment's own, passed through createGateway's `plugins`) counts as declared with its observers.

import type { Plugin } from 'graphql-yoga';
import { requestObserversOf } from '../plugins/request-telemetry.js';
import type { RequestObserver } from '../telemetry/observers.js';

interface Declaration {
  reason: string;
  /** What the lane runs in place of the plugin's hooks. */
  observers: readonly RequestObserver[];
}

const declarations = new WeakMap<Plugin, Declaration>();

/** Declares that the fast lane honours these plugins, and why. */
export function laneSafe<T extends Plugin | Plugin[]>(plugins: T, reason: string): T {
  for (const plugin of Array.isArray(plugins) ? plugins : [plugins]) declarations.set(plugin, { reason, observers: [] });
  return plugins;
}

/** Declares a plugin lane-safe because the lane runs these observers, which do what its hooks do. */
laneSafe.runsOnLane = <T extends Plugin>(plugin: T, observers: readonly RequestObserver[], reason: string): T => {
  declarations.set(plugin, { reason, observers });
  return plugin;
};

function declarationOf(plugin: Plugin): Declaration | undefined {
  const declared = declarations.get(plugin);
  if (declared) return declared;
  const observers = requestObserversOf(plugin);
  return observers && { reason: 'the lane runs the same observers', observers };
}

/** How many plugins of the list are not declared lane-safe. */
export function undeclaredPlugins(plugins: readonly Plugin[]): number {
  return plugins.filter((plugin) => !declarationOf(plugin)).length;
}

/** The observers the lane runs for this plugin list, in its order. */
export function laneObservers(plugins: readonly Plugin[]): RequestObserver[] {
  return plugins.flatMap((plugin) => declarationOf(plugin)?.observers ?? []);
}
