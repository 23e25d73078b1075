// The principal of the request being served, carried through its async work (AsyncLocalStorage), so that the
// task service applies ownership and quotas for every dialect without each handler passing it along.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './types.ts';

const storage = new AsyncLocalStorage<Principal>();

export function runAs<T>(principal: Principal, fn: () => T): T {
  return storage.run(principal, fn);
}

export function currentPrincipal(): Principal | undefined {
  return storage.getStore();
}

/** The owner id that resources (tasks, images) of the current request get and are filtered by: a token's id; undefined for the --api-key or no auth. */
export function currentOwner(): string | undefined {
  const p = storage.getStore();
  return p?.kind === 'token' ? p.tokenId : undefined;
}
