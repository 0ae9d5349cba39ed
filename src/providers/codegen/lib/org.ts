/**
 * The organization id of a Codegen call: the one the call gives (`{ org_id }` in its params), else the
 * client's `orgId` (option or `CODEGEN_ORG_ID`).
 */
import { AiwireError } from '../../../core/errors.js';

/** What `orgId` needs of the client (the Codegen client has it; a resource's `_client` is typed as the base). */
interface WithOrgId {
  readonly orgId?: number | string | undefined;
}

/**
 * The org id to put in a path or query: `given` when set, else the client's `orgId`.
 * @throws AiwireError when neither is set, saying how to set one.
 */
export function orgId(client: unknown, given: number | string | null | undefined): number | string {
  if (given !== undefined && given !== null && given !== '') return given;
  const fallback = (client as WithOrgId).orgId;
  if (fallback !== undefined && fallback !== null && fallback !== '') return fallback;
  throw new AiwireError(
    'No Codegen organization id: pass { org_id } to the call, build the client with new Codegen({ orgId: 323 }), or set CODEGEN_ORG_ID.',
  );
}
