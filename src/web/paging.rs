//! Pagination shared by the paged lists (tokens, audit trail): page numbers from the query,
//! filter query strings and previous/next links.

/// `?page=` as a page number; anything missing or absurd is page 1.
pub fn page_number(raw: &str) -> i64 {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 1 && *p < 1_000_000)
        .unwrap_or(1)
}

/// The non-empty pairs as a query string (values trimmed).
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.trim().is_empty() {
            s.append_pair(k, v.trim());
        }
    }
    s.finish()
}

/// Page count, previous and next links for a list of `total` rows shown `size` at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pager {
    /// `filters` is the list's query string without `page` (see [`query_string`]).
    pub fn new(base: &str, filters: &str, page: i64, total: i64, size: i64) -> Pager {
        let pages = ((total + size - 1) / size.max(1)).max(1);
        let link = |p: i64| {
            if filters.is_empty() {
                format!("{base}?page={p}")
            } else {
                format!("{base}?{filters}&page={p}")
            }
        };
        Pager {
            page,
            pages,
            prev_url: (page > 1).then(|| link(page - 1)),
            next_url: (page < pages).then(|| link(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_links() {
        assert_eq!(page_number("3"), 3);
        assert_eq!(page_number("-1"), 1);
        assert_eq!(page_number("x"), 1);
        assert_eq!(query_string(&[("q", " a b "), ("provider", "")]), "q=a+b");
        let p = Pager::new("/l", "q=a", 2, 51, 25);
        assert_eq!(p.pages, 3);
        assert_eq!(p.prev_url.as_deref(), Some("/l?q=a&page=1"));
        assert_eq!(p.next_url.as_deref(), Some("/l?q=a&page=3"));
        assert_eq!(Pager::new("/l", "", 1, 0, 25).pages, 1);
    }
}
