// Runs one case on aws-local-stepfunctions for bench/peer_bench.py (see there).
// stdin: {"definition", "input", "seconds", "warmup_seconds"}; stdout: one JSON line
// {"runs", "cpu_us", "wall_us", "output"} — CPU of this process (user + system), measured
// after a warm-up so V8's JIT has compiled the hot paths, as a long-running caller would see.
import { StateMachine } from 'aws-local-stepfunctions';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const machine = new StateMachine(job.definition, {});
const runOnce = () => machine.run(structuredClone(job.input)).result;

let output = await runOnce();
const warmEnd = performance.now() + job.warmup_seconds * 1000;
while (performance.now() < warmEnd) output = await runOnce();

let runs = 0;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
const end = wall0 + job.seconds * 1000;
do {
  await runOnce();
  runs += 1;
} while (performance.now() < end);
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - wall0;
process.stdout.write(JSON.stringify({ runs, cpu_us: cpu.user + cpu.system, wall_us: wall * 1000, output }) + '\n');
