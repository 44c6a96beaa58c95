/**
 * Sending application data, RFC 9420 §6.3 / §9.1: always a PrivateMessage (§6.2 forbids application
 * data in a PublicMessage), keyed from our application ratchet, signed over FramedContentTBS.
 */
import { ContentType, type FramedContent, SenderType, signFramedContent, WireFormat } from "./framing.js";
import type { GroupState } from "./group-state.js";
import type { MlsMessage } from "./mls-message.js";
import { protect } from "./private-message.js";

export async function createApplicationMessage(
  state: GroupState,
  data: Uint8Array,
  options: { authenticatedData?: Uint8Array; paddingLength?: number; minGeneration?: number } = {},
): Promise<{ state: GroupState; message: MlsMessage; generation: number }> {
  const { suite } = state;
  const content: FramedContent = {
    groupId: state.context.groupId,
    epoch: state.context.epoch,
    sender: { type: SenderType.member, leafIndex: state.myLeaf },
    authenticatedData: options.authenticatedData ?? new Uint8Array(0),
    contentType: ContentType.application,
    applicationData: data,
  };
  const signature = await signFramedContent(
    suite,
    state.signKey,
    WireFormat.privateMessage,
    content,
    state.context,
  );
  const secretTree = state.secretTree.clone();
  if (options.minGeneration !== undefined)
    await secretTree.skipTo(state.myLeaf, "application", options.minGeneration);
  const generation = secretTree.sendingGeneration(state.myLeaf, "application");
  const privateMessage = await protect(suite, {
    content,
    auth: { signature },
    senderDataSecret: state.secrets.senderDataSecret,
    secretTree,
    reuseGuard: suite.rng.randomBytes(4),
    ...(options.paddingLength !== undefined ? { paddingLength: options.paddingLength } : {}),
  });
  return {
    state: { ...state, secretTree },
    message: { wireFormat: WireFormat.privateMessage, privateMessage },
    generation,
  };
}
