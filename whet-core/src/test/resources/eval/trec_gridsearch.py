# TREC question classification: the tuned TF-IDF baselines in scikit-learn, for docs/benchmarks.md.
# /usr/bin/python3 trec_gridsearch.py ../shared/data/trec
import sys
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.metrics import f1_score
def read(p):
    X,y=[],[]
    for line in open(p, encoding='latin-1'):
        if not line.strip(): continue
        lab=line[:line.index(':')]; X.append(line[line.index(' ')+1:].rstrip('\n')); y.append(lab)
    return X,y
Xtr,ytr=read(sys.argv[1] + '/train_5500.label'); Xte,yte=read(sys.argv[1] + '/TREC_10.label')
for name,vec in [("word",TfidfVectorizer(ngram_range=(1,2),sublinear_tf=True)),("char",TfidfVectorizer(analyzer='char_wb',ngram_range=(2,5),sublinear_tf=True,min_df=2))]:
    grid={'logisticregression__C':[0.1,1,10,100]}
    if name=="word": grid['tfidfvectorizer__min_df']=[1,2]
    g=GridSearchCV(make_pipeline(vec,LogisticRegression(max_iter=5000)),grid,scoring='f1_macro',cv=StratifiedKFold(5,shuffle=True,random_state=0)).fit(Xtr,ytr)
    print(name, g.best_params_, "cv %.3f"%g.best_score_, "test macro-F1 %.4f"%f1_score(yte,g.predict(Xte),average='macro'))
