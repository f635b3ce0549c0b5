"""What a sweep's results become: tables, statistics, figures and report.html."""
