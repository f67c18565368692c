import { describe, expect, it, vi } from "vitest";

import { ada, sessionFor } from "../testing/fixtures";
import { createSessionStore } from "./session";

const KEY = "warm-transfer.session";

function memoryStorage(entries: Record<string, string> = {}): Storage {
  const map = new Map(Object.entries(entries));
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (key) => map.get(key) ?? null,
    key: (index) => [...map.keys()][index] ?? null,
    removeItem: (key) => map.delete(key),
    setItem: (key, value) => map.set(key, value),
  };
}

describe("createSessionStore", () => {
  it("keeps a session in storage and tells subscribers", () => {
    const storage = memoryStorage();
    const store = createSessionStore(storage);
    const listener = vi.fn();
    store.subscribe(listener);
    const session = sessionFor(ada);

    store.start(session);

    expect(store.get()).toEqual({ session, endedBy: null });
    expect(JSON.parse(storage.getItem(KEY) ?? "null")).toEqual(session);
    expect(listener).toHaveBeenCalledOnce();
  });

  it("restores a stored session that is still valid", () => {
    const session = sessionFor(ada);
    const store = createSessionStore(memoryStorage({ [KEY]: JSON.stringify(session) }));

    expect(store.get()).toEqual({ session, endedBy: null });
  });

  it("drops a stored session that has expired, and says why", () => {
    const storage = memoryStorage({ [KEY]: JSON.stringify(sessionFor(ada, -1_000)) });
    const store = createSessionStore(storage);

    expect(store.get()).toEqual({ session: null, endedBy: "expired" });
    expect(storage.getItem(KEY)).toBeNull();
  });

  it("ignores a corrupt entry", () => {
    const store = createSessionStore(memoryStorage({ [KEY]: "{not json" }));

    expect(store.get()).toEqual({ session: null, endedBy: null });
  });

  it("ends a session with its reason and forgets it", () => {
    const storage = memoryStorage();
    const store = createSessionStore(storage);
    store.start(sessionFor(ada));

    store.end("logout");

    expect(store.get()).toEqual({ session: null, endedBy: "logout" });
    expect(storage.length).toBe(0);
  });
});
