// Search attributes Tenantflow workflows carry. Registered on the dev server
// by `--search-attribute TenantId=Keyword` (and AutomationId); operators
// filter the Temporal UI with `TenantId = '<uuid>'`. Every workflow carries
// TenantId; an automation's runs also carry AutomationId (docs/automations.md).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TenantIdSearchAttribute = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const AutomationIdSearchAttribute = defineSearchAttributeKey('AutomationId', SearchAttributeType.KEYWORD);
