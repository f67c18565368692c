export { LoginPage } from "./components/login-page";
export { useSession } from "./hooks/use-session";
export { useSessionExpiry } from "./hooks/use-session-expiry";
export { logout } from "./logout";
