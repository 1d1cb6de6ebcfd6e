-- Run once by the postgres image on an empty data directory (docker-compose.yml).
-- Each service owns its event store, and each level's projector keeps its read models in its own
-- database, so a projection can be dropped and rebuilt without touching anything else.
CREATE DATABASE thidua_directory;
CREATE DATABASE thidua_directory_hn;
CREATE DATABASE thidua_directory_hn_ntl;
