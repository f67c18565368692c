export { queueQueryOptions } from "./api/get-queue";
export { QueuePanel } from "./components/queue-panel";
