import { Box } from "@twilio-paste/core/box";
import { Card } from "@twilio-paste/core/card";
import { Heading } from "@twilio-paste/core/heading";
import { Input } from "@twilio-paste/core/input";
import { Label } from "@twilio-paste/core/label";
import { SkeletonLoader } from "@twilio-paste/core/skeleton-loader";
import { Stack } from "@twilio-paste/core/stack";
import { Text } from "@twilio-paste/core/text";
import { SearchIcon } from "@twilio-paste/icons/esm/SearchIcon";
import { useState } from "react";

import { ErrorAlert } from "../../../components/ui/error-alert";
import type { Agent } from "../../../types/api";
import { useAgents } from "../api/get-agents";
import { filterAgents } from "../../../lib/filter-agents";
import { PresenceBadge } from "./presence-badge";

function AgentRow({ agent, isYou }: { agent: Agent; isYou: boolean }) {
  return (
    <Box
      as="li"
      display="flex"
      alignItems="center"
      justifyContent="space-between"
      paddingY="space30"
      borderBottomStyle="solid"
      borderBottomWidth="borderWidth10"
      borderBottomColor="colorBorderWeaker"
    >
      <Box>
        <Text as="span" fontWeight="fontWeightSemibold">
          {agent.name}
          {isYou && " (you)"}
        </Text>{" "}
        <Text as="span" color="colorTextWeak">
          {agent.id}
        </Text>
      </Box>
      <PresenceBadge presence={agent.presence} />
    </Box>
  );
}

interface DirectoryProps {
  currentAgentId: string;
  /** Whether the event stream keeps the directory up to date; if not, it is polled. */
  live?: boolean;
}

export function Directory({ currentAgentId, live = false }: DirectoryProps) {
  const agents = useAgents({ poll: !live });
  const [search, setSearch] = useState("");
  const shown = filterAgents(agents.data ?? [], search);

  return (
    <Card>
      <Stack orientation="vertical" spacing="space50">
        <Heading as="h2" variant="heading40" marginBottom="space0">
          Directory
        </Heading>
        <Box>
          <Label htmlFor="directory-search">Search agents</Label>
          <Input
            id="directory-search"
            type="search"
            placeholder="Name or id"
            insertBefore={<SearchIcon decorative />}
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        </Box>
        {agents.isPending && <SkeletonLoader height="sizeIcon70" />}
        {agents.error !== null && <ErrorAlert title="Couldn't load the directory." error={agents.error} />}
        {agents.data !== undefined &&
          (shown.length === 0 ? (
            <Text as="p" color="colorTextWeak">
              {search.trim() === "" ? "No agents yet." : `No agent matches “${search.trim()}”.`}
            </Text>
          ) : (
            <Box as="ul" margin="space0" padding="space0" listStyleType="none" aria-label="Agents">
              {shown.map((agent) => (
                <AgentRow key={agent.id} agent={agent} isYou={agent.id === currentAgentId} />
              ))}
            </Box>
          ))}
      </Stack>
    </Card>
  );
}
