export { CallHistory } from "./components/call-history";
