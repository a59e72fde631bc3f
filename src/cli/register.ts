/**
 * `rembus register NAME --pin PIN` and `rembus unregister NAME`: provision a component's key
 * (spec §3.5). Without `--key`, register makes an ECDSA P-256 key and saves its private half to
 * `$REMBUS_DIR/NAME/.secret` (mode 600), where every client command looks for it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { register, unregister } from '../component/register.js';
import { validateKeyName } from '../security/names.js';
import { keyFileOf, openClient, securityFlags, securityOptions, type SecurityFlags } from './client.js';
import { cliLogger } from './logger.js';
import { CliError, componentUrl, EXIT, resolveDataDir, resolveServer, type Env, type GlobalOptions } from './options.js';

/** Add `register` and `unregister` to `program`. */
export function registerRegister(program: Command, env: Env): void {
  securityFlags(program.command('register'))
    .description("register NAME's key with its tenant's PIN; makes and saves a key when --key is not given")
    .argument('<name>', 'the component name')
    .requiredOption('--pin <pin>', "the tenant's PIN (tenants.json on the broker)")
    .action(async (name: string, flags: SecurityFlags & { pin: string }, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      // The name becomes a key file here (without --key) and on the broker: refused before either.
      validateKeyName(name);
      const server = resolveServer(globals.server, env);
      let key: string | Uint8Array;
      let saved: string | undefined;
      if (flags.key !== undefined) {
        key = new Uint8Array(await readFile(flags.key).catch((err: Error) => {
          throw new CliError(`${flags.key!}: cannot read the key: ${err.message}`, EXIT.failure);
        }));
      } else {
        key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
        saved = keyFileOf({}, name, resolveDataDir(undefined, env))!;
      }
      const { ca } = await securityOptions({ ...(flags.ca === undefined ? {} : { ca: flags.ca }) }, undefined, env);
      await register(componentUrl(server, name), { pin: flags.pin, key, ...(ca === undefined ? {} : { ca }) });
      if (saved !== undefined) {
        await mkdir(dirname(saved), { recursive: true });
        await writeFile(saved, key, { mode: 0o600 });
        process.stderr.write(`registered ${name}; private key saved to ${saved}\n`);
      } else process.stderr.write(`registered ${name}\n`);
    });

  securityFlags(program.command('unregister'))
    .description("remove NAME's key from the broker (logs in with the key first)")
    .argument('<name>', 'the component name')
    .action(async (name: string, flags: SecurityFlags, cmd: Command) => {
      const globals = { ...cmd.optsWithGlobals<GlobalOptions>(), name };
      const log = cliLogger('unregister', globals.verbose, env, 'warn');
      const node = await openClient({ globals, env, log, files: flags });
      try {
        await unregister(node);
        process.stderr.write(`unregistered ${name}\n`);
      } finally {
        await node.close();
      }
    });
}
