/**
 * The softphone's view of a voice device: the Twilio Voice SDK's Device in production, the
 * built-in simulator in simulated mode, an EventEmitter fake in tests. Only the provider's
 * Softphone talks to it; components never see it.
 */
import type { VoiceMode } from "../../types/api";

export type Unsubscribe = () => void;

export type DeviceState = "unregistered" | "registering" | "registered" | "destroyed";

/** A failure reported by the device or a call; `code` is Twilio's error code when there is one. */
export interface VoiceError {
  code: number | null;
  message: string;
}

export type VoiceCallStatus = "pending" | "connecting" | "ringing" | "open" | "reconnecting" | "closed";

export interface VoiceCallEvents {
  accept: () => void;
  /** Either side hung up after the call was accepted. */
  disconnect: () => void;
  /** The caller gave up (or another tab answered) before this one did. */
  cancel: () => void;
  reject: () => void;
  mute: (muted: boolean) => void;
  error: (error: VoiceError) => void;
}

export interface VoiceCall {
  /** Who is calling, as Twilio reports it: a number or `client:<identity>`. */
  readonly from: string;
  status(): VoiceCallStatus;
  isMuted(): boolean;
  accept(): void;
  reject(): void;
  disconnect(): void;
  mute(muted: boolean): void;
  on<E extends keyof VoiceCallEvents>(event: E, listener: VoiceCallEvents[E]): Unsubscribe;
}

export interface VoiceDeviceEvents {
  state: (state: DeviceState) => void;
  incoming: (call: VoiceCall) => void;
  error: (error: VoiceError) => void;
  /** The SDK's own hint, once, shortly before the token expires. */
  tokenWillExpire: () => void;
}

export interface VoiceDevice {
  readonly state: DeviceState;
  register(): Promise<void>;
  unregister(): Promise<void>;
  /** Hangs up every call and releases the device; it can't be used afterwards. */
  destroy(): void;
  updateToken(token: string): void;
  on<E extends keyof VoiceDeviceEvents>(event: E, listener: VoiceDeviceEvents[E]): Unsubscribe;
}

export type VoiceDeviceFactory = (mode: VoiceMode, token: string) => Promise<VoiceDevice>;
