import type { Unsubscribe } from "./voice-device";

/**
 * - `unknown`: the browser won't say until asked.
 * - `prompt`: the browser will ask when the softphone starts.
 * - `missing`: allowed, but no microphone could be opened.
 * - `unavailable`: the page isn't a secure context (https or localhost), so there is no microphone API.
 */
export type MicrophoneState = "unknown" | "prompt" | "granted" | "denied" | "missing" | "unavailable";

export interface MicrophoneAccess {
  /** Reports the permission now and whenever the agent changes it in the browser. */
  watch(listener: (state: MicrophoneState) => void): Unsubscribe;
  /** Asks for the microphone (the browser prompts if it must) and releases it at once. */
  request(): Promise<MicrophoneState>;
}

export const browserMicrophone: MicrophoneAccess = {
  watch(listener) {
    let status: PermissionStatus | null = null;
    let stopped = false;
    const onChange = () => {
      if (status !== null) listener(status.state);
    };
    // Older browsers lack the Permissions API or its "microphone" name: the state stays "unknown".
    const { permissions } = navigator as Partial<Navigator>;
    permissions
      ?.query({ name: "microphone" })
      .then((result) => {
        if (stopped) return;
        status = result;
        status.addEventListener("change", onChange);
        onChange();
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
      status?.removeEventListener("change", onChange);
    };
  },

  async request() {
    // Browsers leave mediaDevices out of pages that aren't a secure context.
    const { mediaDevices } = navigator as Partial<Navigator>;
    if (mediaDevices === undefined) return "unavailable";
    try {
      const stream = await mediaDevices.getUserMedia({ audio: true });
      stream.getTracks().forEach((track) => track.stop());
      return "granted";
    } catch (error) {
      const name = error instanceof DOMException ? error.name : "";
      return name === "NotAllowedError" || name === "SecurityError" ? "denied" : "missing";
    }
  },
};
