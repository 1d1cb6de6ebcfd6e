-- Run once by the postgres image on an empty data directory (docker-compose.yml).
-- Each service owns its event store, and each level a level host serves keeps its read models in its
-- own database (the --db template thidua_{projection}_{level}), so a level can be dropped and rebuilt
-- without touching anything else; each host's copy of the directory has one too ({level} =
-- directory_<host name>). A level path's dot is kept: quote the name.
CREATE DATABASE thidua_directory;
CREATE DATABASE "thidua_directory_level_hn";
CREATE DATABASE "thidua_directory_level_hn.ntl";
CREATE DATABASE "thidua_directory_level_hn.dd";
CREATE DATABASE "thidua_directory_level_directory_city";
CREATE DATABASE "thidua_directory_level_directory_districts";
