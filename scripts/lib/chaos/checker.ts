/**
 * The chaos checker: for every device, every seq the push API answered (HTTP
 * 200) was received exactly once after dedupe, in order; the stored log has
 * no gaps, no id twice, and agrees with every answer and every arrival.
 */
import type { Device } from "./device.ts";
import type { ChaosReport, PushRecord } from "./report.ts";

export type UserLog = { head: number; messages: Array<{ id: string; seq: number }> };

export function check(
  report: ChaosReport,
  users: readonly string[],
  pushes: readonly PushRecord[],
  logs: ReadonlyMap<string, UserLog>,
  devices: readonly Device[],
): void {
  const byUser = new Map<string, PushRecord[]>();
  for (const p of pushes) {
    const list = byUser.get(p.user) ?? [];
    list.push(p);
    byUser.set(p.user, list);
  }
  for (const p of pushes) {
    if (p.seq !== undefined) report.pushes.answered++;
    else report.pushes.unanswered++;
    if (p.duplicateAnswer) report.pushes.duplicateAnswers++;
  }
  for (const user of users) {
    const log = logs.get(user);
    const logById = new Map<string, number>();
    const logBySeq = new Map<number, string>();
    if (log !== undefined) {
      let expect = 1;
      for (const m of log.messages) {
        if (m.seq !== expect) report.integrity.push(`${user}: log seq ${m.seq} where ${expect} was next (gap or disorder)`);
        expect = m.seq + 1;
        if (logById.has(m.id)) report.integrity.push(`${user}: id ${m.id} stored twice (seq ${logById.get(m.id)} and ${m.seq})`);
        logById.set(m.id, m.seq);
        logBySeq.set(m.seq, m.id);
      }
      if (log.messages.length > 0 && expect - 1 !== log.head) report.integrity.push(`${user}: head ${log.head} but last stored seq ${expect - 1}`);
    }
    const answered = new Map<number, string>();
    for (const p of byUser.get(user) ?? []) {
      if (p.seq === undefined) continue;
      if (answered.has(p.seq) && answered.get(p.seq) !== p.id) report.integrity.push(`${user}: seq ${p.seq} answered for ${answered.get(p.seq)} and ${p.id}`);
      answered.set(p.seq, p.id);
      if (log !== undefined && logBySeq.get(p.seq) !== p.id) {
        report.integrity.push(`${user}: ${p.id} was answered seq ${p.seq}, the log has ${String(logBySeq.get(p.seq))} there`);
      }
    }
    const unansweredIds = new Set((byUser.get(user) ?? []).filter((p) => p.seq === undefined).map((p) => p.id));
    for (const d of devices.filter((x) => x.user === user)) {
      const got = new Map(d.delivered.map((a) => [a.seq, a.id]));
      const lost: number[] = [];
      for (const [seq, id] of answered) {
        if (!got.has(seq)) lost.push(seq);
        else if (got.get(seq) !== id) report.integrity.push(`${user}/${d.name}: seq ${seq} arrived as ${String(got.get(seq))}, answered as ${id}`);
      }
      // Stored but unanswered: accepted if received, never required (only counted).
      for (const [seq, id] of logBySeq) {
        if (unansweredIds.has(id)) {
          if (got.has(seq)) report.unansweredReceived++;
          else report.storedUnansweredNotReceived++;
        }
      }
      for (const a of d.delivered) {
        const logId = logBySeq.get(a.seq);
        if (log !== undefined && logId !== a.id) report.integrity.push(`${user}/${d.name}: received seq ${a.seq} as ${a.id}, the log has ${String(logId)}`);
      }
      const mismatched: string[] = [];
      for (const nr of d.notRecovered) {
        // Resuming beyond head means the server forgot a message it had delivered.
        if (nr.since > nr.head) mismatched.push(`resumed at ${nr.since} beyond head ${nr.head}: delivered messages were lost`);
      }
      report.devices.push({
        user,
        device: d.name,
        sessions: d.sessions,
        cleanDrops: d.cleanDrops,
        abruptDrops: d.abruptDrops,
        killedDrops: d.killedDrops,
        received: d.delivered.length,
        lost,
        duplicated: d.duplicated,
        reordered: d.reordered,
        notRecovered: d.notRecovered,
        mismatched,
      });
      report.lost += lost.length;
      report.duplicated += d.duplicated;
      report.reordered += d.reordered;
      report.notRecovered += d.notRecovered.length;
      for (const m of mismatched) report.integrity.push(`${user}/${d.name}: ${m}`);
    }
  }
}
