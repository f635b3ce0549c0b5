"""What a sweep folder holds, one reader and one writer for each kind of file."""
