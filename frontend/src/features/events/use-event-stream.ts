import { useEffect, useEffectEvent, useState } from "react";

import { env } from "../../config/env";
import { createTicket } from "./api/create-ticket";
import { EventStream, type EventSourceLike, type StreamStatus } from "./event-stream";
import type { LiveEvent } from "./live-event";

function streamUrl(ticket: string): string {
  return `${env.apiBaseUrl}/api/events?ticket=${encodeURIComponent(ticket)}`;
}

function openEventSource(url: string): EventSourceLike {
  return new EventSource(url);
}

/**
 * Keeps the server's event stream open while the caller is mounted (the logged-in console), and
 * hands each event to `onEvent`. Unmounting (logging out) closes it.
 */
export function useEventStream(onEvent: (event: LiveEvent) => void): StreamStatus {
  const [status, setStatus] = useState<StreamStatus>("connecting");
  const handle = useEffectEvent(onEvent);

  useEffect(() => {
    const stream = new EventStream({
      getTicket: createTicket,
      url: streamUrl,
      openEventSource,
      onEvent: handle,
    });
    const unsubscribe = stream.subscribe(() => {
      setStatus(stream.getStatus());
    });
    stream.start();
    return () => {
      unsubscribe();
      stream.stop();
    };
  }, []);

  return status;
}
