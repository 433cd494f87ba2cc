import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MECHANISMS, type SaslStep } from '../../src/auth/sasl/index.js';
import { b, challengeText, deps, MemoryUsers, mech } from './sasl-helpers.js';

const users = new MemoryUsers();

beforeAll(async () => {
  await users.add('user', 'pencil', { cram: true });
  await users.add('off@example.com', 'x', { disabled: true, cram: true });
});

const bytes = fc.uint8Array({ maxLength: 96 }).map((a) => Buffer.from(a));
// Fragments of real protocol messages, so generation reaches the deeper parser branches. The password
// is deliberately absent, so no generated exchange can legitimately succeed.
const tokens = fc
  .array(fc.constantFrom('n', 'y', 'p', ',', '=', 'a=', 'n=', 'r=', 'c=', 'p=', 'm=', '=2C', '=3D', 'user', '\0'), {
    maxLength: 16,
  })
  .map((parts) => b(parts.join('')));
const response = fc.oneof(bytes, tokens);

function expectStep(step: SaslStep): void {
  expect(['challenge', 'failure']).toContain(step.type);
  if (step.type === 'challenge') expect(Buffer.isBuffer(step.data)).toBe(true);
}

describe('SASL mechanisms on arbitrary input', () => {
  it.each(MECHANISMS)('%s never throws and never succeeds on random responses', async (name) => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(response, { nil: null }),
        fc.array(response, { maxLength: 3 }),
        async (first, rest) => {
          const m = mech(name, deps(users));
          let step = await m.start(first);
          expectStep(step);
          for (const r of rest) {
            step = await m.step(r);
            expectStep(step);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('SCRAM-SHA-256 handles any client-final after a valid client-first', async () => {
    await fc.assert(
      fc.asyncProperty(response, async (final) => {
        const m = mech('SCRAM-SHA-256', deps(users));
        challengeText(await m.start(b('n,,n=user,r=abc')));
        const step = await m.step(final);
        expect(step.type).toBe('failure');
      }),
      { numRuns: 300 },
    );
  });

  it('CRAM-MD5 handles any response to its challenge', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          response,
          fc.string().map((s) => b(`user ${s}`)),
        ),
        async (answer) => {
          const m = mech('CRAM-MD5', deps(users));
          await m.start(null);
          expect((await m.step(answer)).type).toBe('failure');
        },
      ),
      { numRuns: 300 },
    );
  });
});
