\set id random(1, 100000)
SELECT id, name FROM ferry_bench_users WHERE id = :id;
