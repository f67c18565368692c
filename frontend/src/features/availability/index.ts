export { AvailabilityToggle } from "./components/availability-toggle";
