export { ActiveCallPanel } from "./components/active-call-panel";
