#!/usr/bin/env python3
# report.html at scale (docs/report.md): a record shaped like a 10,000-robot run of 10 minutes
# (readings every 10 s, a WiFi drop on a tenth of the fleet), made from a real run's record.db
# so the schema is the recorder's own. Usage: bench/report_10k.py RUN/record.db OUT/record.db
import sqlite3, sys, random, time, shutil
src, dst = sys.argv[1], sys.argv[2]
shutil.copy(src, dst)
db = sqlite3.connect(dst)
for t in ['readings', 'hourly', 'boots', 'devices', 'status', 'commands', 'faults', 'device_accounts',
          'run_devices', 'run_groups', 'run_expectations', 'run_env', 'run_info', 'raw_messages', 'metric_messages']:
    db.execute('DELETE FROM ' + t)
N, T, IV = 10000, 600, 10
t0 = int(time.time() * 1000) - 3600 * 1000
rnd = random.Random(1)
db.executemany('INSERT INTO run_info VALUES (?,?)', [('scenario', 'scale-10k'), ('started_ms', t0), ('ended_ms', t0 + T * 1000), ('passed', 1)])
db.executemany('INSERT INTO run_groups VALUES (?,?,?)', [(0, 'robots', 'robot'), (1, 'sketches', 'sketch: /x/SensorToCloud')])
ids = ['robot_%05d' % i for i in range(N)]
db.executemany('INSERT INTO run_devices VALUES (?,?,?)', [(i, ids[i], i % 2) for i in range(N)])
db.executemany('INSERT INTO run_expectations VALUES (?,?,?,?,?,?,?,?)', [(0, 'all online', '/s/scale.yaml', 10, 1, 30.0, t0 + 30000, '')])
db.executemany('INSERT INTO run_env VALUES (?,?,?,?,?)', [(t0, g, 22, 40, 100) for g in (0, 1)] + [(t0 + 300000, 0, 30, 55, 100)])
st = []
for i in range(N):
    st.append((t0 + i * 5 % 30000, ids[i], 'online', 0))
    if i % 10 == 0:
        st.append((t0 + 200000 + i, ids[i], 'offline', 0))
        st.append((t0 + 260000 + i, ids[i], 'online', 0))
st.sort()
db.executemany('INSERT INTO status (recv_ms, device_id, status, retained) VALUES (?,?,?,?)', st)
db.executemany('INSERT INTO faults (ms, device_id, kind, action, source) VALUES (?,?,?,?,?)',
               [(t0 + 200000, ids[i], 'wifi_drop', 'inject', 'scenario') for i in range(0, N, 10)] +
               [(t0 + 260000, ids[i], 'wifi_drop', 'clear', 'scenario') for i in range(0, N, 10)])
rows = []
for s in range(30, T, IV):
    for i in range(N):
        ms = t0 + s * 1000 + (i % 1000)
        rows.append((ms, ids[i], 1, s, ms - 3, 22 + rnd.random(), 40 + rnd.random(), 100.0, None, '{}'))
db.executemany('INSERT INTO readings (recv_ms, device_id, boot, seq, ts_ms, temperature, humidity, distance, errors, raw) VALUES (?,?,?,?,?,?,?,?,?,?)', rows)
db.executemany('INSERT INTO device_accounts VALUES (?,?,?,?,?,?)', [(ids[i], 57, 57, 0, 0, 0) for i in range(N)])
db.commit()
print(len(rows), 'readings')
