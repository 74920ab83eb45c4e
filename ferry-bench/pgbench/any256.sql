SELECT id, name FROM ferry_bench_users WHERE id = ANY(ARRAY(SELECT (1 + floor(random() * 100000))::bigint FROM generate_series(1, 256)));
