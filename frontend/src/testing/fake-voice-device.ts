import { EventEmitter } from "events";
import { vi } from "vitest";

import type { MicrophoneAccess, MicrophoneState } from "../features/softphone/microphone";
import type {
  DeviceState,
  Unsubscribe,
  VoiceCall,
  VoiceCallEvents,
  VoiceCallStatus,
  VoiceDevice,
  VoiceDeviceEvents,
  VoiceDeviceFactory,
} from "../features/softphone/voice-device";

// Unlike the real SDK, the fakes never remove listeners themselves: a listener still attached
// after the softphone let go of a device or call is a leak the tests can see.
function listenerCount(emitter: EventEmitter): number {
  let total = 0;
  for (const event of emitter.eventNames()) total += emitter.listenerCount(event);
  return total;
}

export class FakeVoiceCall implements VoiceCall {
  readonly #emitter = new EventEmitter();
  #status: VoiceCallStatus = "pending";
  #muted = false;

  constructor(readonly from = "+15551230000") {}

  readonly accept = vi.fn(() => {
    this.#status = "open";
    this.emit("accept");
  });
  readonly reject = vi.fn(() => {
    this.#status = "closed";
    this.emit("reject");
  });
  readonly disconnect = vi.fn(() => {
    this.#status = "closed";
    this.emit("disconnect");
  });
  readonly mute = vi.fn((muted: boolean) => {
    this.#muted = muted;
    this.emit("mute", muted);
  });

  status(): VoiceCallStatus {
    return this.#status;
  }

  isMuted(): boolean {
    return this.#muted;
  }

  on<E extends keyof VoiceCallEvents>(event: E, listener: VoiceCallEvents[E]): Unsubscribe {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  /** Plays Twilio's side: the caller hangs up (`cancel`), the line drops (`disconnect`), … */
  emit<E extends keyof VoiceCallEvents>(event: E, ...args: Parameters<VoiceCallEvents[E]>): void {
    this.#emitter.emit(event, ...args);
  }

  listenerCount(): number {
    return listenerCount(this.#emitter);
  }
}

export class FakeVoiceDevice implements VoiceDevice {
  readonly #emitter = new EventEmitter();
  state: DeviceState = "unregistered";

  constructor(public token: string) {}

  readonly register = vi.fn(() => {
    this.setState("registering");
    this.setState("registered");
    return Promise.resolve();
  });
  readonly unregister = vi.fn(() => {
    this.setState("unregistered");
    return Promise.resolve();
  });
  readonly destroy = vi.fn(() => {
    this.setState("destroyed");
  });
  readonly updateToken = vi.fn((token: string) => {
    this.token = token;
  });

  on<E extends keyof VoiceDeviceEvents>(event: E, listener: VoiceDeviceEvents[E]): Unsubscribe {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }

  emit<E extends keyof VoiceDeviceEvents>(event: E, ...args: Parameters<VoiceDeviceEvents[E]>): void {
    this.#emitter.emit(event, ...args);
  }

  setState(state: DeviceState): void {
    this.state = state;
    this.emit("state", state);
  }

  /** An incoming call rings this device. */
  ring(call = new FakeVoiceCall()): FakeVoiceCall {
    this.emit("incoming", call);
    return call;
  }

  listenerCount(): number {
    return listenerCount(this.#emitter);
  }
}

/** A VoiceDeviceFactory that records the fake devices it makes. */
export function fakeDeviceFactory() {
  const devices: FakeVoiceDevice[] = [];
  const createDevice = vi.fn<VoiceDeviceFactory>((_mode, token) => {
    const device = new FakeVoiceDevice(token);
    devices.push(device);
    return Promise.resolve(device);
  });
  return {
    createDevice,
    devices,
    latest(): FakeVoiceDevice {
      const device = devices.at(-1);
      if (device === undefined) throw new Error("no device was created");
      return device;
    },
  };
}

export function fakeMicrophone(answer: MicrophoneState = "granted") {
  const listeners = new Set<(state: MicrophoneState) => void>();
  const microphone = {
    watch: vi.fn((listener: (state: MicrophoneState) => void) => {
      listeners.add(listener);
      listener("prompt");
      return () => listeners.delete(listener);
    }),
    request: vi.fn(() => Promise.resolve(answer)),
    /** The agent changes the permission in the browser's settings. */
    change(state: MicrophoneState) {
      listeners.forEach((listener) => listener(state));
    },
    watcherCount: () => listeners.size,
  } satisfies MicrophoneAccess & Record<string, unknown>;
  return microphone;
}
