-- The schema today's create_all code made (commit 49fbe96, before migrations), as sqlite held it: a database
-- from then, which the first migration adopts in place.
CREATE TABLE jobs (
	id VARCHAR(32) NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	timeframe VARCHAR(8) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	params TEXT NOT NULL, 
	progress FLOAT NOT NULL, 
	stage VARCHAR(200) NOT NULL, 
	created_at FLOAT NOT NULL, 
	started_at FLOAT, 
	finished_at FLOAT, 
	heartbeat_at FLOAT, 
	worker VARCHAR(200), 
	cancel_requested BOOLEAN NOT NULL, 
	result TEXT, 
	error TEXT, 
	log_tail TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_jobs_timeframe ON jobs (timeframe);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE UNIQUE INDEX one_running_per_timeframe ON jobs (timeframe) WHERE status = 'running';
CREATE TABLE predictions (
	id INTEGER NOT NULL, 
	model VARCHAR(64) NOT NULL, 
	model_version VARCHAR(80) NOT NULL, 
	symbol VARCHAR(40) NOT NULL, 
	timeframe VARCHAR(8) NOT NULL, 
	horizon INTEGER NOT NULL, 
	as_of BIGINT NOT NULL, 
	probability_up FLOAT NOT NULL, 
	signal VARCHAR(8) NOT NULL, 
	recorded_at FLOAT NOT NULL, 
	outcome_up BOOLEAN, 
	return_bps FLOAT, 
	scored_at FLOAT, 
	PRIMARY KEY (id), 
	CONSTRAINT one_forecast UNIQUE (model, model_version, symbol, timeframe, horizon, as_of)
);
CREATE INDEX unscored ON predictions (scored_at, timeframe, symbol);
CREATE INDEX by_recorded ON predictions (recorded_at);
CREATE INDEX by_model ON predictions (model, timeframe, as_of);
