-- The tutorial's streaming hashtag ranking: split each tweet on single spaces, keep the
-- tokens that start with '#', count them, most frequent first.
SELECT tag, count(*) AS tag_count
FROM (SELECT explode(split(CAST(value AS STRING), ' ')) AS tag FROM lines)
WHERE startswith(tag, '#')
GROUP BY tag
ORDER BY tag_count DESC
