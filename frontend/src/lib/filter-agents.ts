import type { Agent } from "../types/api";

/** Agents whose name or id contains the search text, ignoring case, accents and extra spaces. */
export function filterAgents(agents: readonly Agent[], search: string): Agent[] {
  const needle = normalize(search);
  if (needle === "") return [...agents];
  return agents.filter(
    (agent) => normalize(agent.name).includes(needle) || normalize(agent.id).includes(needle),
  );
}

function normalize(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim();
}
