import { useEffect, useState, type ReactNode } from "react";

import { getConfig } from "./api/get-config";
import { getVoiceToken } from "./api/get-voice-token";
import { createVoiceDevice } from "./create-voice-device";
import { browserMicrophone, type MicrophoneAccess } from "./microphone";
import { Softphone } from "./softphone";
import { SoftphoneContext } from "./softphone-context";
import type { VoiceDeviceFactory } from "./voice-device";

interface SoftphoneProviderProps {
  children: ReactNode;
  /** Read once, when the provider mounts; tests pass fakes. */
  createDevice?: VoiceDeviceFactory;
  microphone?: MicrophoneAccess;
}

/** The one owner of the voice device. Unmounting it (logging out) destroys the device. */
export function SoftphoneProvider({
  children,
  createDevice = createVoiceDevice,
  microphone = browserMicrophone,
}: SoftphoneProviderProps) {
  // One Softphone for the provider's life; the SDK objects live inside it, never in React state.
  const [softphone] = useState(() => new Softphone({ createDevice, microphone, getConfig, getVoiceToken }));

  useEffect(() => {
    const stopWatching = softphone.watchMicrophone();
    return () => {
      stopWatching();
      softphone.stop();
    };
  }, [softphone]);

  return <SoftphoneContext value={softphone}>{children}</SoftphoneContext>;
}
