import { describe, expect, it } from "vitest";

import type { Agent } from "../types/api";
import { filterAgents } from "./filter-agents";

const agents: Agent[] = [
  { id: "agent1", name: "Zoë Ångström", availability: "available", presence: "available", on_call: false },
  { id: "agent2", name: "Grace Hopper", availability: "away", presence: "away", on_call: false },
];

describe("filterAgents", () => {
  it("keeps everyone for an empty or blank search", () => {
    expect(filterAgents(agents, "  ")).toEqual(agents);
  });

  it("matches names and ids ignoring case, accents and spacing", () => {
    expect(filterAgents(agents, "zoe  ang")).toEqual([agents[0]]);
    expect(filterAgents(agents, "AGENT2")).toEqual([agents[1]]);
  });

  it("finds nobody when nothing matches", () => {
    expect(filterAgents(agents, "turing")).toEqual([]);
  });
});
