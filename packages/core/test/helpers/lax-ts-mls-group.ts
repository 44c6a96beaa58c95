/**
 * A group run with ts-mls directly, with no Parley rules and no authentication service: how tests
 * play a member who does what Parley's engines would refuse to (an extension of her own, a leaf signed
 * by a key her device certificate does not name).
 */
import {
  type CreateCommitResult,
  createCommit,
  createGroup,
  decode,
  defaultProposalTypes,
  generateKeyPackageWithKey,
  type MlsContext,
  mlsMessageDecoder,
  unsafeTestingAuthenticationService,
} from "ts-mls";
import type { CryptoProvider } from "../../src/crypto/provider.js";
import { deviceMlsCredential } from "../../src/identity/credential.js";
import type { DeviceIdentity } from "../../src/identity/device.js";
import type { KeyPackageBundle } from "../../src/mls/engine.js";
import { parleyCapabilities, tsMlsSuite } from "../../src/mls/ts-mls-engine.js";

/**
 * `founder`'s group on suite 1, its leaf signed by `signWith` (her device key unless given), and the
 * commit adding `joiner` (a KeyPackage of a Parley engine), its Welcome carrying the ratchet tree.
 */
export async function laxGroupAdding(
  crypto: CryptoProvider,
  founder: DeviceIdentity,
  joiner: KeyPackageBundle,
  signWith: { secretKey: Uint8Array; publicKey: Uint8Array } = {
    secretKey: founder.deviceSecretKey,
    publicKey: founder.deviceKey,
  },
): Promise<{ lax: MlsContext; added: CreateCommitResult }> {
  const suite = tsMlsSuite(await crypto.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"));
  const lax: MlsContext = { cipherSuite: suite, authService: unsafeTestingAuthenticationService };
  const kp = await generateKeyPackageWithKey({
    credential: deviceMlsCredential(founder),
    capabilities: parleyCapabilities(),
    signatureKeyPair: { signKey: signWith.secretKey, publicKey: signWith.publicKey },
    cipherSuite: suite,
  });
  const base = await createGroup({
    context: lax,
    groupId: crypto.randomBytes(16),
    keyPackage: kp.publicPackage,
    privateKeyPackage: kp.privatePackage,
  });
  const joinerPublic = decode(mlsMessageDecoder, joiner.publicMessage);
  if (joinerPublic?.wireformat !== 5) throw new Error("not a KeyPackage");
  const added = await createCommit({
    context: lax,
    state: base,
    extraProposals: [
      { proposalType: defaultProposalTypes.add, add: { keyPackage: joinerPublic.keyPackage } },
    ],
    ratchetTreeExtension: true,
  });
  return { lax, added };
}
