"""The fixture really streams: guards every other integration test's premise."""


def test_standby_streams_and_replays(lab):
    assert lab.standby.scalar("SELECT pg_is_in_recovery()") is True
    lab.primary.sql("CREATE TABLE IF NOT EXISTS smoke(i int)")
    lab.primary.sql("INSERT INTO smoke VALUES (42)")
    lsn = lab.primary.scalar("SELECT pg_current_wal_lsn()::text")
    for _attempt in range(600):  # up to 60 s
        if lab.standby.scalar("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)):
            break
        import time
        time.sleep(0.1)
    assert lab.standby.scalar("SELECT count(*) FROM smoke WHERE i = 42") == 1
