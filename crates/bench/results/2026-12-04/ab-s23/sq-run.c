// Runs each statement of argv[2..] on the database argv[1], ?1 = project, ?2 = prefix, ?3 = its end,
// N times (N, P, S from the environment), printing the rows of the first run when it is
// an EXPLAIN or SHOW is set, and the mean time of the other runs.
#include "sqlite3.h"  /* libsqlite3-sys bundled copy, see sq-window.sh */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
  sqlite3*db; if(sqlite3_open_v2(argv[1],&db,SQLITE_OPEN_READONLY,0)){fprintf(stderr,"open\n");return 1;}
  const char*p=getenv("P"),*s=getenv("S"); int n=atoi(getenv("N")?getenv("N"):"20");
  char e[256]; snprintf(e,sizeof e,"%s\xF4\x8F\xBF\xBF",s);
  sqlite3_exec(db,"PRAGMA cache_size=-2000",0,0,0);
  for(int a=2;a<argc;a++){
    const char*sql=argv[a]; sqlite3_stmt*st;
    if(sqlite3_prepare_v2(db,sql,-1,&st,0)){fprintf(stderr,"%s\n",sqlite3_errmsg(db));return 1;}
    double t0=0; long rows=0;
    for(int i=0;i<=n;i++){ if(i==1)t0=now();
      sqlite3_bind_text(st,1,p,-1,SQLITE_STATIC);sqlite3_bind_text(st,2,s,-1,SQLITE_STATIC);sqlite3_bind_text(st,3,e,-1,SQLITE_STATIC);
      int r; while((r=sqlite3_step(st))==SQLITE_ROW){ if(i==0){rows++; if(!strncmp(sql,"EXPLAIN",7)||getenv("SHOW")) {for(int c=0;c<sqlite3_column_count(st);c++)printf("%s|",sqlite3_column_text(st,c));printf("\n");}}}
      if(r!=SQLITE_DONE){fprintf(stderr,"step %s\n",sqlite3_errmsg(db));return 1;}
      sqlite3_reset(st);}
    printf("stmt %d: %ld rows, %.1f us/run\n",a-1,rows,(now()-t0)/n*1e6);
    sqlite3_finalize(st);}
  return 0;}
