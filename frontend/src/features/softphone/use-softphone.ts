import { use, useSyncExternalStore } from "react";

import type { Softphone, SoftphoneSnapshot } from "./softphone";
import { SoftphoneContext } from "./softphone-context";

/** The softphone's actions (start, stop, accept, …). */
export function useSoftphone(): Softphone {
  const softphone = use(SoftphoneContext);
  if (softphone === null) throw new Error("useSoftphone must be used inside <SoftphoneProvider>");
  return softphone;
}

/** The softphone's current state; re-renders the caller when it changes. */
export function useSoftphoneState(): SoftphoneSnapshot {
  const softphone = useSoftphone();
  return useSyncExternalStore(softphone.subscribe, softphone.getSnapshot);
}
