-- The tutorial's exploration as a script: a view over files, a look at what is there now,
-- the hashtag ranking as a bounded streaming query, then as a background query.
CREATE TEMPORARY VIEW lines USING text OPTIONS (path 'tests/repl/input');
\d
\d lines
SELECT count(*) AS n FROM lines;

SET outputMode = complete;
SET trigger = 'availableNow';
SET numRows = 5;
SELECT tag, count(*) AS tag_count
  FROM (SELECT explode(split(value, ' ')) AS tag FROM STREAM lines)
  WHERE startswith(tag, '#')
  GROUP BY tag
  ORDER BY tag_count DESC, tag;

START QUERY top AS
  SELECT tag, count(*) AS tag_count
  FROM (SELECT explode(split(value, ' ')) AS tag FROM STREAM(lines))
  WHERE startswith(tag, '#') GROUP BY tag;
SELECT * FROM top ORDER BY tag_count DESC, tag LIMIT 2;
\d
SET
