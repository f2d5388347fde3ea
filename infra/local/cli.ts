import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalClient, type Tokens } from './client.ts';
import { defaultStateDir, readPlatformInfo } from './state.ts';

const USAGE = `Usage: npm run tenantry -- <command> [arguments]

  signup <email> <password> [--tenant-name NAME]   sign up, confirm and log in a user
  login <email> <password>                         log in; the tokens are kept for --as
  token <email>                                    print the kept ID token (for curl)
  group <email> <platform-admin|finance>           add a user to a platform group
  call <METHOD> <path> --as <email> [--data JSON]  call the API as that user

Options: --state-dir DIR (default .tenantry, or TENANTRY_STATE_DIR)`;

// The pinned SDK supports Node 20; its notice about future releases is noise for a person here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'state-dir': { type: 'string' },
    'tenant-name': { type: 'string' },
    as: { type: 'string' },
    data: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

const stateDir = values['state-dir'] ?? defaultStateDir();
const tokenFile = path.join(stateDir, 'cli-tokens.json');

async function readTokens(): Promise<Record<string, Tokens>> {
  try {
    return JSON.parse(await readFile(tokenFile, 'utf8')) as Record<string, Tokens>;
  } catch {
    return {};
  }
}

async function keepTokens(email: string, tokens: Tokens): Promise<void> {
  const all = await readTokens();
  all[email] = tokens;
  await writeFile(tokenFile, JSON.stringify(all, null, 2), { mode: 0o600 });
}

async function tokenOf(email: string): Promise<string> {
  const tokens = (await readTokens())[email];
  if (!tokens)
    throw new Error(`No kept token for ${email}: run \`npm run tenantry -- login ${email} <password>\``);
  return tokens.idToken;
}

function need(index: number, name: string): string {
  const value = positionals[index];
  if (!value) throw new Error(`Missing ${name}\n\n${USAGE}`);
  return value;
}

async function main(): Promise<void> {
  const command = positionals[0];
  if (!command || values.help) {
    console.log(USAGE);
    return;
  }
  const client = new LocalClient(await readPlatformInfo(stateDir));
  try {
    switch (command) {
      case 'signup': {
        const [email, password] = [need(1, 'email'), need(2, 'password')];
        const attributes: Record<string, string> = values['tenant-name']
          ? { 'custom:tenant_name': values['tenant-name'] }
          : {};
        const userId = await client.signUp(email, password, attributes);
        await keepTokens(email, await client.logIn(email, password));
        console.log(`Signed up ${email} (user ${userId}) and logged in.`);
        return;
      }
      case 'login': {
        const [email, password] = [need(1, 'email'), need(2, 'password')];
        await keepTokens(email, await client.logIn(email, password));
        console.log(`Logged in ${email}.`);
        return;
      }
      case 'token':
        console.log(await tokenOf(need(1, 'email')));
        return;
      case 'group': {
        const group = need(2, 'group');
        if (group !== 'platform-admin' && group !== 'finance') throw new Error(`Unknown group ${group}`);
        await client.addToGroup(need(1, 'email'), group);
        console.log(`Added ${positionals[1]} to ${group}; log in again for the token to carry it.`);
        return;
      }
      case 'call': {
        const [method, apiPath] = [need(1, 'method').toUpperCase(), need(2, 'path')];
        const token = values.as ? await tokenOf(values.as) : undefined;
        const body = values.data === undefined ? undefined : (JSON.parse(values.data) as unknown);
        const result = await client.call(method, apiPath, { token, body });
        console.log(`HTTP ${result.status}`);
        console.log(typeof result.body === 'string' ? result.body : JSON.stringify(result.body, null, 2));
        if (result.status >= 400) process.exitCode = 1;
        return;
      }
      default:
        throw new Error(`Unknown command ${command}\n\n${USAGE}`);
    }
  } finally {
    client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
