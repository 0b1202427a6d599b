//! core/v1 Events with client-go's aggregation (skeleton; filled in next).
