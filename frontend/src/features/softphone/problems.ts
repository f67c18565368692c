import { ApiError } from "../../lib/api-client";
import type { MicrophoneState } from "./microphone";
import type { VoiceError } from "./voice-device";

/** What went wrong and what the agent can do about it, in plain words. */
export interface Problem {
  title: string;
  action: string;
}

/** The server asked for a voice mode this console can't drive. */
export class UnsupportedVoiceModeError extends Error {
  override readonly name = "UnsupportedVoiceModeError";
}

const START_AGAIN = "Press “Start softphone” to try again.";

const MICROPHONE_DENIED: Problem = {
  title: "The browser blocked the microphone.",
  action:
    "Allow microphone access for this site (the icon in the address bar), then press “Start softphone”.",
};
const MICROPHONE_MISSING: Problem = {
  title: "No microphone could be opened.",
  action: "Connect a headset or microphone, close other apps that use it, then press “Start softphone”.",
};
const MICROPHONE_UNAVAILABLE: Problem = {
  title: "This page can't use a microphone.",
  action: "Open the console over https (or on localhost), then press “Start softphone”.",
};

export function microphoneProblem(state: MicrophoneState): Problem | null {
  switch (state) {
    case "denied":
      return MICROPHONE_DENIED;
    case "missing":
      return MICROPHONE_MISSING;
    case "unavailable":
      return MICROPHONE_UNAVAILABLE;
    default:
      return null;
  }
}

// Twilio Voice SDK error codes, grouped by what the agent can do about them.
const TOKEN_CODES = new Set([20101, 20104, 31204, 31205]);
const CREDENTIAL_CODES = new Set([20151, 31201, 31202, 31203, 31207]);
const NETWORK_CODES = new Set([31003, 31005, 31009, 53000, 53001]);
const MEDIA_CODES = new Set([53400, 53402, 53405]);

export function voiceErrorProblem(error: VoiceError): Problem {
  const code = error.code ?? 0;
  if (code === 31401) return MICROPHONE_DENIED;
  if (code === 31402) return MICROPHONE_MISSING;
  if (TOKEN_CODES.has(code)) {
    return { title: "The softphone's access expired or was refused.", action: START_AGAIN };
  }
  if (CREDENTIAL_CODES.has(code)) {
    return {
      title: "Twilio refused the softphone's credentials.",
      action: "Ask an administrator to check the server's Twilio API key settings.",
    };
  }
  if (NETWORK_CODES.has(code)) {
    return {
      title: "The softphone lost its connection to Twilio.",
      action: "Check your network connection. The softphone reconnects on its own when it can.",
    };
  }
  if (MEDIA_CODES.has(code)) {
    return {
      title: "The call's audio couldn't connect.",
      action: "Your network or firewall may block voice traffic. Try another network or ask your IT team.",
    };
  }
  const suffix = error.code === null ? "" : ` (code ${String(error.code)})`;
  return { title: `The softphone reported a problem${suffix}: ${error.message}`, action: START_AGAIN };
}

/** The SDK rejects with its own errors, which carry Twilio's numeric code. */
function hasVoiceErrorCode(error: unknown): error is Error & { code: number } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "number";
}

/** For failures while starting: a token or config request, creating or registering the device. */
export function startProblem(error: unknown): Problem {
  if (hasVoiceErrorCode(error)) return voiceErrorProblem({ code: error.code, message: error.message });
  if (error instanceof UnsupportedVoiceModeError) {
    return {
      title: error.message,
      action: "Ask an administrator which voice mode the server should run in.",
    };
  }
  if (error instanceof ApiError) {
    return {
      title: `Couldn't get the softphone's access from the server: ${error.detail}`,
      action: START_AGAIN,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { title: `The softphone couldn't start: ${message}`, action: START_AGAIN };
}

export function refreshProblem(error: unknown): Problem {
  const detail = error instanceof ApiError ? error.detail : "the request failed";
  return {
    title: `Couldn't renew the softphone's access (${detail}).`,
    action: "Retrying shortly. If it keeps failing, calls stop reaching you when the access runs out.",
  };
}
