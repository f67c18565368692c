import { EventEmitter } from "events";
import { describe, expect, it, vi } from "vitest";

import { TwilioVoiceDevice } from "./twilio-device";
import type { VoiceCall } from "./voice-device";

// A stand-in for the SDK's Device and Call: EventEmitters with the same event names.
const sdk = vi.hoisted(() => ({ devices: [] as unknown[] }));

vi.mock("@twilio/voice-sdk", async () => {
  const { EventEmitter: Emitter } = await import("events");
  class Device extends Emitter {
    static State = {
      Destroyed: "destroyed",
      Unregistered: "unregistered",
      Registering: "registering",
      Registered: "registered",
    };
    state = "unregistered";
    readonly register = vi.fn(() => Promise.resolve());
    readonly unregister = vi.fn(() => Promise.resolve());
    readonly destroy = vi.fn();
    readonly updateToken = vi.fn();
    constructor(
      readonly token: string,
      readonly options: unknown,
    ) {
      super();
      sdk.devices.push(this);
    }
  }
  return { Device };
});

interface SdkDevice extends EventEmitter {
  token: string;
  options: unknown;
  state: string;
  register: ReturnType<typeof vi.fn>;
  destroy: ReturnType<typeof vi.fn>;
  updateToken: ReturnType<typeof vi.fn>;
}

function latestSdkDevice(): SdkDevice {
  return sdk.devices.at(-1) as SdkDevice;
}

function sdkCall(parameters: Record<string, string>) {
  return Object.assign(new EventEmitter(), {
    parameters,
    status: vi.fn(() => "pending"),
    isMuted: vi.fn(() => false),
    accept: vi.fn(),
    reject: vi.fn(),
    disconnect: vi.fn(),
    mute: vi.fn(),
  });
}

function totalListeners(emitter: EventEmitter): number {
  let total = 0;
  for (const event of emitter.eventNames()) total += emitter.listenerCount(event);
  return total;
}

describe("TwilioVoiceDevice", () => {
  it("creates the SDK Device with the token and passes calls through", async () => {
    const device = new TwilioVoiceDevice("voice-token");
    const sdkDevice = latestSdkDevice();

    expect(sdkDevice.token).toBe("voice-token");
    expect(sdkDevice.options).toEqual({ closeProtection: true });
    await device.register();
    device.updateToken("renewed");
    device.destroy();
    expect(sdkDevice.register).toHaveBeenCalledOnce();
    expect(sdkDevice.updateToken).toHaveBeenCalledWith("renewed");
    expect(sdkDevice.destroy).toHaveBeenCalledOnce();
  });

  it("reports every registration change as one state event, until unsubscribed", () => {
    const device = new TwilioVoiceDevice("voice-token");
    const sdkDevice = latestSdkDevice();
    const states: string[] = [];

    const unsubscribe = device.on("state", (state) => states.push(state));
    sdkDevice.state = "registered";
    sdkDevice.emit("registered");
    unsubscribe();
    sdkDevice.emit("unregistered");

    expect(states).toEqual(["registered"]);
    expect(totalListeners(sdkDevice)).toBe(0);
  });

  it("turns SDK errors into code and explanation", () => {
    const device = new TwilioVoiceDevice("voice-token");
    const listener = vi.fn();
    device.on("error", listener);

    latestSdkDevice().emit(
      "error",
      Object.assign(new Error("AccessTokenExpired (20104)"), {
        code: 20104,
        explanation: "The token expired.",
      }),
    );

    expect(listener).toHaveBeenCalledWith({ code: 20104, message: "The token expired." });
  });

  it("wraps incoming calls, whose events also unsubscribe cleanly", () => {
    const device = new TwilioVoiceDevice("voice-token");
    let incoming: VoiceCall | undefined;
    device.on("incoming", (call) => (incoming = call));
    const call = sdkCall({ From: "+15551230000", CallSid: "CA1" });

    latestSdkDevice().emit("incoming", call);
    expect(incoming?.from).toBe("+15551230000");

    const onMute = vi.fn();
    const unsubscribe = incoming?.on("mute", onMute);
    incoming?.mute(true);
    call.emit("mute", true, call);
    unsubscribe?.();

    expect(call.mute).toHaveBeenCalledWith(true);
    expect(onMute).toHaveBeenCalledWith(true);
    expect(totalListeners(call)).toBe(0);
  });
});
