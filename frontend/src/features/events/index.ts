export { LiveIndicator } from "./components/live-indicator";
export type { StreamStatus } from "./event-stream";
export type { LiveEvent } from "./live-event";
export { useEventStream } from "./use-event-stream";
