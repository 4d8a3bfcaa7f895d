// Search attributes every Tenantflow workflow carries. Registered on the dev
// server by `--search-attribute TenantId=Keyword`; operators filter the
// Temporal UI with `TenantId = '<uuid>'`.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TenantIdSearchAttribute = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
