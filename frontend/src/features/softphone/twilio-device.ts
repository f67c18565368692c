import { Device, type Call, type TwilioError } from "@twilio/voice-sdk";

import type {
  DeviceState,
  Unsubscribe,
  VoiceCall,
  VoiceCallEvents,
  VoiceCallStatus,
  VoiceDevice,
  VoiceDeviceEvents,
  VoiceError,
} from "./voice-device";

/** The SDK's own listener type: both Device and Call are Node-style EventEmitters. */
type Listener = Parameters<Device["on"]>[1];

interface Emitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

function listen(emitter: Emitter, events: string[], listener: Listener): Unsubscribe {
  events.forEach((event) => emitter.on(event, listener));
  return () => events.forEach((event) => emitter.off(event, listener));
}

function toVoiceError(error: TwilioError.TwilioError): VoiceError {
  return {
    code: typeof error.code === "number" ? error.code : null,
    message: error.explanation || error.message,
  };
}

class TwilioVoiceCall implements VoiceCall {
  readonly from: string;
  readonly #call: Call;

  constructor(call: Call) {
    this.#call = call;
    this.from = call.parameters.From ?? "an unknown caller";
  }

  status(): VoiceCallStatus {
    return this.#call.status();
  }

  isMuted(): boolean {
    return this.#call.isMuted();
  }

  accept(): void {
    this.#call.accept();
  }

  reject(): void {
    this.#call.reject();
  }

  disconnect(): void {
    this.#call.disconnect();
  }

  mute(muted: boolean): void {
    this.#call.mute(muted);
  }

  on<E extends keyof VoiceCallEvents>(event: E, listener: VoiceCallEvents[E]): Unsubscribe {
    const call = this.#call;
    switch (event) {
      case "mute":
        return listen(call, ["mute"], (muted: boolean) => (listener as VoiceCallEvents["mute"])(muted));
      case "error":
        return listen(call, ["error"], (error: TwilioError.TwilioError) =>
          (listener as VoiceCallEvents["error"])(toVoiceError(error)),
        );
      default:
        return listen(call, [event], () => (listener as () => void)());
    }
  }
}

/** The real VoiceDevice: a thin adapter over the Twilio Voice SDK's Device. */
export class TwilioVoiceDevice implements VoiceDevice {
  readonly #device: Device;

  constructor(token: string) {
    // closeProtection asks before the tab closes mid-call, which would drop the customer.
    this.#device = new Device(token, { closeProtection: true });
  }

  get state(): DeviceState {
    return this.#device.state;
  }

  register(): Promise<void> {
    return this.#device.register();
  }

  unregister(): Promise<void> {
    return this.#device.unregister();
  }

  destroy(): void {
    this.#device.destroy();
  }

  updateToken(token: string): void {
    this.#device.updateToken(token);
  }

  on<E extends keyof VoiceDeviceEvents>(event: E, listener: VoiceDeviceEvents[E]): Unsubscribe {
    const device = this.#device;
    switch (event) {
      case "state":
        return listen(device, Object.values(Device.State), () =>
          (listener as VoiceDeviceEvents["state"])(device.state),
        );
      case "incoming":
        return listen(device, ["incoming"], (call: Call) =>
          (listener as VoiceDeviceEvents["incoming"])(new TwilioVoiceCall(call)),
        );
      case "error":
        return listen(device, ["error"], (error: TwilioError.TwilioError) =>
          (listener as VoiceDeviceEvents["error"])(toVoiceError(error)),
        );
      default:
        return listen(device, ["tokenWillExpire"], () => (listener as () => void)());
    }
  }
}
