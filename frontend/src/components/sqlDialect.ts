// Flink SQL as the editor parses and highlights it: its keywords, types and built-in
// functions, and its backquoted identifiers. Loaded with the editor (highlighting needs
// it at once); the completion that offers the same words (sqlCompletion.ts) is loaded
// when the editor first asks for completions.
import { SQLDialect } from '@codemirror/lang-sql';

/** Statement and clause words of Flink SQL (lower case, as the dialect takes them). */
export const FLINK_KEYWORDS = `
add after all alter analyze and any as asc at begin between both buckets by call cascade case cast catalog catalogs
columns comment compile compute create cross cube current database databases default define delete desc describe
descriptor distinct distributed drop else end enforced escape except execute exists explain extended false fetch filter
first following for freshness from full function functions generated group grouping having if ignore in inner insert
intersect interval into is jar jars join key language last lateral leading left like limit load local match
match_recognize matched materialized measures merge modify module modules natural next not null nulls of offset on one
only or order outer over overwrite partition partitioned partitions past pattern per preceding primary range
recursive refresh rename replace reset respect resume right rollup row rows select set sets show skip statement
subset suspend system system_time table tables temporary then ties to trailing true truncate unbounded union unload
unnest update use user using values view views watermark watermarks when where window with within without zone`;

/** Data types. */
export const FLINK_TYPES = `
array bigint binary boolean bytes char date decimal dec double float int integer map multiset numeric raw smallint
string time timestamp timestamp_ltz tinyint varbinary varchar variant`;

/** Flink's built-in functions most scripts call. */
export const FLINK_FUNCTIONS = `
abs array_agg ascii avg cardinality ceil char_length coalesce collect concat concat_ws count cume_dist cumulate
current_date current_row_timestamp current_time current_timestamp current_watermark date_format dayofmonth
dayofweek dayofyear decode dense_rank element encode exp extract first_value floor from_unixtime greatest hash_code
hop hour if ifnull initcap instr is_alpha is_decimal is_digit json_array json_arrayagg json_exists json_object
json_objectagg json_query json_string json_value lag last_value lead least left length listagg ln localtime
localtimestamp locate log lower lpad ltrim max md5 min minute mod month now nullif overlay position power proctime
rand rand_integer rank regexp regexp_extract regexp_replace repeat replace reverse right round row_number rpad rtrim
second session sha1 sha256 sign source_watermark split_index sqrt stddev_pop stddev_samp str_to_map substr
substring sum timestampadd timestampdiff to_base64 to_date to_timestamp to_timestamp_ltz trim try_cast tumble
tumble_end tumble_rowtime tumble_start unix_timestamp upper uuid var_pop var_samp week year`;

/**
 * Flink SQL for the parser and highlighting: its own keywords, types and functions, and
 * backquoted identifiers (`order`) rather than the standard's double quotes.
 */
export const FlinkSQL = SQLDialect.define({
  keywords: FLINK_KEYWORDS,
  types: FLINK_TYPES,
  builtin: FLINK_FUNCTIONS,
  identifierQuotes: '`',
});
