export { agentsQueryOptions } from "./api/get-agents";
export { Directory } from "./components/directory";
