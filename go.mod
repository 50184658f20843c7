module github.com/heraldsse/herald

go 1.26
